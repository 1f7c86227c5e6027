"""Placeholder until the API lands."""
from django.http import HttpResponse


def meeting_list(request): return HttpResponse("")
def segment_list(request, meeting_id): return HttpResponse("")
