"""The meetings list's filter form: query parameters in, MeetingFilters out."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import QueryDict

from assistant.models import Meeting
from assistant.services.meeting_filters import ENDED, LIVE, MeetingFilters


class FilterForm(forms.Form):
    """Every field optional; an invalid one is ignored (and shown as such), never an error page."""

    q = forms.CharField(required=False, max_length=300, label="Text")
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    host = forms.IntegerField(required=False, min_value=1, label="Host")
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), (LIVE, "Live"), (ENDED, "Ended")],
        label="Status",
    )
    open_items = forms.BooleanField(required=False, label="Open action items")

    def filters(self) -> MeetingFilters:
        """The valid fields as filters (an unbound or invalid field filters nothing)."""
        if not self.is_bound:
            return MeetingFilters()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return MeetingFilters(
            text=(data.get("q") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            host_id=data.get("host"),
            status=data.get("status") or "",
            open_items=bool(data.get("open_items")),
        )


def host_choices(visible: QuerySet[Meeting]) -> list[User]:
    """The hosts of the meetings a staff user sees, by username."""
    owner_ids = visible.exclude(owner=None).order_by().values("owner_id").distinct()
    return list(User.objects.filter(pk__in=owner_ids).order_by("username"))


def page_query(params: QueryDict) -> str:
    """The filters of the current query, to keep on the pager's links (`&`-prefixed)."""
    kept = [(k, v) for k, values in params.lists() if k != "page" for v in values]
    return "&" + urlencode(kept) if kept else ""
