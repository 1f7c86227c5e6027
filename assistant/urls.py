"""HTTP routes: the dashboard and API (assistant), the demo actions (rtms_ingest).

The Zoom webhook is served before Django, at the ASGI edge (assistant.asgi).
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from assistant.views import (
    api,
    catch_up_api,
    deliveries,
    library,
    notes_api,
    notes_template,
    notes_track,
    pages,
    pictures,
    rtms_controls,
    search,
    share_links,
    shared_page,
    sign_in,
    zoom_oauth,
    zoomapp,
)
from rtms_ingest.runtime import demo, demo_views, language_views, slides_views, transcription_views

urlpatterns = [
    path("", pages.meeting_list, name="meeting-list"),
    path("meetings/<int:meeting_id>/", pages.meeting_detail, name="meeting-detail"),
    path(
        "meetings/<int:meeting_id>/pictures/<str:name>",
        pictures.meeting_picture,
        name="meeting-picture",
    ),
    *(
        path(
            f"meetings/<int:meeting_id>/export.{fmt}",
            library.export,
            {"fmt": fmt},
            name=f"meeting-export-{fmt}",
        )
        for fmt in library.FORMATS
    ),
    path("meetings/<int:meeting_id>/delete/", library.delete, name="meeting-delete"),
    path("meetings/<int:meeting_id>/rtms/", rtms_controls.meeting_rtms, name="meeting-rtms"),
    path("meetings/rtms/start/", rtms_controls.start_by_id, name="rtms-start"),
    path(
        "meetings/<int:meeting_id>/deliveries/send/",
        deliveries.send_again,
        name="meeting-send-notes",
    ),
    path("settings/deliveries/", deliveries.delivery_settings, name="delivery-settings"),
    path(
        "settings/deliveries/<int:target_id>/delete/",
        deliveries.delete_target,
        name="delivery-target-delete",
    ),
    path("search/", search.search_page, name="search"),
    path("api/search/", search.search_api, name="api-search"),
    path("demo/play/", demo_views.play_sample_meeting, name="demo-play"),
    path("demo/panel/", demo_views.open_panel, name="demo-panel"),
    path("healthz", pages.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            authentication_form=sign_in.SignInForm,
            # Called when the page renders: in the demo only, where its password is kept.
            extra_context={"demo_password_file": demo.password_hint},
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/meetings/", api.meeting_list, name="api-meeting-list"),
    path("api/meetings/<int:meeting_id>/segments/", api.segment_list, name="api-segment-list"),
    path("api/meetings/<int:meeting_id>/notes/", notes_api.notes_detail, name="api-notes"),
    path("api/meetings/<int:meeting_id>/ask/", notes_api.ask_meeting, name="api-ask"),
    path(
        "api/meetings/<int:meeting_id>/catch-up/",
        catch_up_api.catch_up_meeting,
        name="api-catch-up",
    ),
    path(
        "api/meetings/<int:meeting_id>/mentions/",
        catch_up_api.meeting_mentions,
        name="api-mentions",
    ),
    path(
        "api/meetings/<int:meeting_id>/action-items/",
        notes_api.add_action_item,
        name="api-add-action-item",
    ),
    path("api/action-items/<int:item_id>/", notes_api.action_item, name="api-action-item"),
    path("api/decisions/<int:decision_id>/", notes_api.decision, name="api-decision"),
    path(
        "api/meetings/<int:meeting_id>/share-links/",
        share_links.meeting_share_links,
        name="api-share-links",
    ),
    path("api/share-links/<int:link_id>/", share_links.share_link, name="api-share-link"),
    # The token is the path: assistant/wiring/log_redaction.py keeps it out of the logs.
    path("shared/<str:token>/", shared_page.shared_meeting, name="shared-meeting"),
    path(
        "api/meetings/<int:meeting_id>/slides/",
        slides_views.meeting_slides,
        name="api-meeting-slides",
    ),
    path(
        "api/meetings/<int:meeting_id>/transcription/",
        transcription_views.meeting_transcription,
        name="api-meeting-transcription",
    ),
    path(
        "api/meetings/<int:meeting_id>/language/",
        language_views.meeting_language_choice,
        name="api-meeting-language",
    ),
    path(
        "api/meetings/<int:meeting_id>/notes-track/",
        notes_track.notes_track,
        name="api-meeting-notes-track",
    ),
    path(
        "api/meetings/<int:meeting_id>/notes-template/",
        notes_template.notes_template,
        name="api-meeting-notes-template",
    ),
    path("zoomapp/home", zoomapp.home, name="zoomapp-home"),
    path("zoomapp/context", zoomapp.hand_in_context, name="zoomapp-context"),
    path("zoomapp/panel", zoomapp.panel_page, name="zoomapp-panel"),
    path("zoomapp/panel/meeting", zoomapp.panel_meeting, name="zoomapp-panel-meeting"),
    path("zoomapp/install", zoom_oauth.install, name="zoomapp-install"),
    path("zoomapp/oauth/callback", zoom_oauth.callback, name="zoomapp-oauth-callback"),
    path("zoomapp/authorize", zoom_oauth.authorize_start, name="zoomapp-authorize"),
    path("zoomapp/authorized", zoom_oauth.authorized, name="zoomapp-authorized"),
    path("admin/login/", sign_in.admin_login),
    path("admin/", admin.site.urls),
]
