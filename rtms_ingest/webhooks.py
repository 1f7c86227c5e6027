"""Placeholder."""
from django.http import HttpResponse

def zoom_webhook(request): return HttpResponse("")
