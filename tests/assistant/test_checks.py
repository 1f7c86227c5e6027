"""System checks flag missing secrets and risky production settings, with stable ids."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings


def check_ids(include_deployment_checks: bool = False) -> set[str | None]:
    return {m.id for m in run_checks(include_deployment_checks=include_deployment_checks)}


@override_settings(ZOOM_WEBHOOK_SECRET_TOKEN="")
def test_missing_webhook_secret_is_flagged() -> None:
    assert "assistant.W001" in check_ids()


@override_settings(ZOOM_CLIENT_SECRET="")
def test_missing_rtms_credentials_are_flagged() -> None:
    assert "assistant.W002" in check_ids()


def test_configured_secrets_raise_no_warning() -> None:
    assert not {"assistant.W001", "assistant.W002"} & check_ids()


@override_settings(EMBEDDED=False, SECRET_KEY_FROM_ENV=False)
def test_production_shape_without_a_shared_secret_key_is_an_error_on_deploy() -> None:
    assert "assistant.E001" in check_ids(include_deployment_checks=True)


@override_settings(EMBEDDED=False, SECRET_KEY_FROM_ENV=True, SESSION_COOKIE_SECURE=True)
def test_production_shape_with_secret_key_and_secure_cookies_passes() -> None:
    ids = check_ids(include_deployment_checks=True)
    assert not {"assistant.E001", "assistant.W011", "assistant.W012"} & ids


@override_settings(JOBS_IN_PROCESS=False, REDIS_URL="")
def test_jobs_for_celery_without_a_broker_are_an_error() -> None:
    assert "assistant.E002" in check_ids()


@override_settings(JOBS_IN_PROCESS=True, REDIS_URL="")
def test_jobs_in_process_need_no_broker() -> None:
    assert "assistant.E002" not in check_ids()


@override_settings(ALLOWED_HOSTS=["*"])
def test_wildcard_allowed_host_is_flagged_on_deploy() -> None:
    assert "assistant.W013" in check_ids(include_deployment_checks=True)


@override_settings(ALLOWED_HOSTS=["notes.example.com"], SITE_URL="https://notes.example.com")
def test_named_hosts_and_an_https_site_url_pass_on_deploy() -> None:
    assert not {"assistant.W013", "assistant.W014"} & check_ids(include_deployment_checks=True)


@override_settings(CONTENT_SECURITY_POLICY="default-src 'self'; script-src 'self' 'unsafe-inline'")
def test_unsafe_inline_in_the_policy_is_flagged_on_deploy() -> None:
    assert "assistant.W015" in check_ids(include_deployment_checks=True)


@override_settings(SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=False)
def test_samesite_none_without_secure_cookies_is_flagged_on_deploy() -> None:
    assert "assistant.W016" in check_ids(include_deployment_checks=True)


@override_settings(RTMS_DB_RETRY_S=5.0)
def test_an_ingest_that_would_not_wait_out_a_database_restart_is_flagged() -> None:
    assert "assistant.W017" in check_ids()


@override_settings(RTMS_DB_RETRY_S=-1.0)
def test_a_negative_database_retry_window_is_an_error() -> None:
    assert "assistant.E004" in check_ids()


def test_the_default_database_retry_window_passes() -> None:
    assert not {"assistant.W017", "assistant.E004"} & check_ids()


@override_settings(RTMS_ALLOWED_HOSTS=["*.zoom.us", "*.zoomgov.com"], RTMS_ALLOW_INSECURE_WS=False)
def test_zoom_only_wss_rtms_connections_raise_no_warning_on_deploy() -> None:
    assert not {"assistant.W025", "assistant.W026", "assistant.E025"} & check_ids(True)


@pytest.mark.parametrize(
    "hosts",
    [["*"], ["*.zoom.us", "127.0.0.1"], ["localhost"], ["*.zoom.us.evil.com"], ["evilzoom.us"]],
)
def test_rtms_hosts_beyond_zoom_are_flagged_on_deploy(hosts: list[str]) -> None:
    with override_settings(RTMS_ALLOWED_HOSTS=hosts, RTMS_ALLOW_INSECURE_WS=False):
        assert "assistant.W025" in check_ids(include_deployment_checks=True)


@override_settings(RTMS_ALLOWED_HOSTS=["rtms.zoom.us", "zoomgov.com"], RTMS_ALLOW_INSECURE_WS=False)
def test_names_of_zoom_itself_are_not_flagged() -> None:
    assert "assistant.W025" not in check_ids(include_deployment_checks=True)


@override_settings(RTMS_ALLOWED_HOSTS=["*.zoom.us"], RTMS_ALLOW_INSECURE_WS=True)
def test_insecure_rtms_websockets_are_flagged_on_deploy() -> None:
    assert "assistant.W026" in check_ids(include_deployment_checks=True)


@override_settings(RTMS_ALLOWED_HOSTS=["http://zoom.us"])
def test_a_malformed_rtms_allowed_host_is_an_error() -> None:
    assert "assistant.E025" in check_ids()


@override_settings(HTTP_READ_TIMEOUT_S=0.0)
def test_a_read_timeout_of_zero_is_an_error() -> None:
    assert "assistant.E026" in check_ids()


@override_settings(HTTP_MAX_BODY_BYTES=-1)
def test_a_negative_body_cap_is_an_error() -> None:
    assert "assistant.E026" in check_ids()


@override_settings(HTTP_MAX_BODY_BYTES=1024**3, HTTP_READ_TIMEOUT_S=3600.0)
def test_a_body_cap_or_read_timeout_too_large_to_protect_is_flagged() -> None:
    assert {"assistant.W027", "assistant.W028"} <= check_ids()


def test_the_default_http_limits_pass() -> None:
    assert not {"assistant.E026", "assistant.W027", "assistant.W028"} & check_ids()


@override_settings(
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), TRUSTED_PROXY_COUNT=0
)
def test_a_proxy_without_a_trusted_proxy_count_is_flagged_on_deploy() -> None:
    assert "assistant.W029" in check_ids(include_deployment_checks=True)


@override_settings(
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), TRUSTED_PROXY_COUNT=1
)
def test_a_proxy_with_its_count_passes_on_deploy() -> None:
    assert "assistant.W029" not in check_ids(include_deployment_checks=True)


@override_settings(STAFF_2FA=False)
def test_staff_without_a_second_factor_is_flagged_on_deploy() -> None:
    assert "assistant.W030" in check_ids(include_deployment_checks=True)


@override_settings(STAFF_2FA=True)
def test_staff_with_a_second_factor_pass_on_deploy() -> None:
    assert "assistant.W030" not in check_ids(include_deployment_checks=True)
