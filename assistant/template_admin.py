"""Admin of the notes templates admins write: a name, a key, sections, a rule on the topic.

What is typed here goes into the LLM prompt of every meeting that uses the template, so it is
bounded: at most MAX_SECTIONS sections, headings and instructions of limited length, a topic
rule of a few words or phrases (never a regular expression). A key cannot be a built-in
template's. Registered by assistant.admin, which Django's admin discovers.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from assistant.models import NotesTemplate, NotesTemplateSection
from assistant.services.notes import templates
from assistant.template_models import MAX_SECTIONS


class NotesTemplateForm(forms.ModelForm):
    """A template's own fields, checked: a key of its own, a topic rule within bounds."""

    class Meta:
        model = NotesTemplate
        fields = ("name", "key", "topic_rule", "per_person", "position")
        widgets = {"topic_rule": forms.Textarea(attrs={"rows": 3, "cols": 60})}

    def clean_key(self) -> str:
        key = str(self.cleaned_data["key"])
        if key in templates.BUILT_IN_KEYS:
            raise forms.ValidationError(f"“{key}” is a built-in template's key: choose another.")
        return key

    def clean_topic_rule(self) -> str:
        rule = str(self.cleaned_data.get("topic_rule", ""))
        problems = templates.rule_problems(rule)
        if problems:
            raise forms.ValidationError(problems)
        return "\n".join(templates.rule_phrases(rule))


class SectionFormSet(forms.BaseInlineFormSet):
    """The sections: at least one (a template without any would be the default's notes)."""

    def clean(self) -> None:
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE", False)]
        if not kept:
            raise forms.ValidationError("A template needs at least one section.")


class SectionForm(forms.ModelForm):
    """A section's heading, instructions (a small box) and what the extract puts there."""

    class Meta:
        model = NotesTemplateSection
        fields = ("position", "heading", "instructions", "extract")
        widgets = {"instructions": forms.Textarea(attrs={"rows": 2, "cols": 60})}


class NotesTemplateSectionInline(admin.TabularInline):
    model = NotesTemplateSection
    form = SectionForm
    formset = SectionFormSet
    fields = ("position", "heading", "instructions", "extract")
    extra = 1
    max_num = MAX_SECTIONS
    validate_max = True


@admin.register(NotesTemplate)
class NotesTemplateAdmin(admin.ModelAdmin):
    """Notes templates hosts may choose; the built-in ones (code) are not listed here."""

    form = NotesTemplateForm
    inlines = (NotesTemplateSectionInline,)
    list_display = ("name", "key", "topic_rule", "per_person", "position", "updated_at")
    search_fields = ("name", "key", "topic_rule")
    prepopulated_fields = {"key": ("name",)}
