"""Placeholder until the dashboard lands."""
from django.http import HttpResponse


def meeting_list(request): return HttpResponse("")
def meeting_detail(request, meeting_id): return HttpResponse("")
def play_sample_meeting(request): return HttpResponse("")
def healthz(request): return HttpResponse("ok")
