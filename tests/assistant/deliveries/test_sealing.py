"""Secrets at rest: sealed in the database, keys that rotate, checks that warn in production."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from pytest_django.fixtures import Settings

from assistant.models import DeliveryTarget
from assistant.services import sealing
from assistant.services.deliveries import targets
from assistant.settings import _encryption_keys

KEY_A = sealing.new_key()
KEY_B = sealing.new_key()
URL = "https://hooks.slack.com/services/T000/B000/very-secret-token"


def test_sealed_text_opens_with_the_key_and_shows_nothing_of_itself(settings: Settings) -> None:
    settings.DATA_ENCRYPTION_KEYS = [KEY_A]
    sealed = sealing.seal(URL)
    assert "very-secret-token" not in sealed and sealed != sealing.seal(URL)  # random IV
    assert sealing.unseal(sealed) == URL


def test_keys_rotate_the_first_seals_and_every_one_opens(settings: Settings) -> None:
    settings.DATA_ENCRYPTION_KEYS = [KEY_A]
    old = sealing.seal(URL)
    settings.DATA_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert sealing.unseal(old) == URL
    fresh = sealing.reseal(old)
    settings.DATA_ENCRYPTION_KEYS = [KEY_B]
    assert sealing.unseal(fresh) == URL
    with pytest.raises(sealing.SealingError):
        sealing.unseal(old)


def test_without_keys_the_derived_key_follows_the_secret_key(settings: Settings) -> None:
    settings.DATA_ENCRYPTION_KEYS = []
    sealed = sealing.seal(URL)
    assert sealing.unseal(sealed) == URL
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(sealing.SealingError):
        sealing.unseal(sealed)


def test_an_altered_value_does_not_open(settings: Settings) -> None:
    settings.DATA_ENCRYPTION_KEYS = [KEY_A]
    sealed = sealing.seal(URL)
    with pytest.raises(sealing.SealingError):
        sealing.unseal(sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB"))


@pytest.mark.parametrize("raw", ["not-a-key", KEY_A[:-4], f"{KEY_A},tooshort"])
def test_a_malformed_key_stops_the_settings_without_showing_it(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured) as caught:
        _encryption_keys(raw)
    assert "not a Fernet key" in str(caught.value)
    assert raw.split(",")[-1] not in str(caught.value)


def test_keys_are_read_as_a_comma_list() -> None:
    assert _encryption_keys(f" {KEY_A} , {KEY_B} ") == [KEY_A, KEY_B]
    assert _encryption_keys("") == []


@pytest.mark.django_db
def test_a_targets_url_and_secret_are_stored_sealed(settings: Settings) -> None:
    settings.DATA_ENCRYPTION_KEYS = [KEY_A]
    target = targets.create(
        None, targets.TargetInput("webhook", "Hook", URL, "s3cret-signing-key-0123")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT url_sealed, secret_sealed, url_host FROM assistant_deliverytarget "
            "WHERE id = %s",
            [target.pk],
        )
        url_sealed, secret_sealed, url_host = cursor.fetchone()
    assert "very-secret-token" not in url_sealed and "s3cret" not in secret_sealed
    assert url_host == "hooks.slack.com"
    assert targets.url_of(target) == URL
    assert targets.secret_of(target) == "s3cret-signing-key-0123"


@pytest.mark.django_db
def test_reseal_secrets_moves_stored_secrets_to_the_first_key(settings: Settings) -> None:
    settings.DATA_ENCRYPTION_KEYS = [KEY_A]
    target = targets.create(
        None, targets.TargetInput("webhook", "Hook", URL, "s3cret-signing-key-0123")
    )
    settings.DATA_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    out = StringIO()
    call_command("reseal_secrets", stdout=out)
    assert "DeliveryTarget.url_sealed: 1 resealed" in out.getvalue()
    settings.DATA_ENCRYPTION_KEYS = [KEY_B]
    target = DeliveryTarget.objects.get(pk=target.pk)
    assert targets.url_of(target) == URL
    assert targets.secret_of(target) == "s3cret-signing-key-0123"


def test_make_data_key_prints_a_key_the_settings_accept() -> None:
    out = StringIO()
    call_command("make_data_key", stdout=out)
    assert _encryption_keys(out.getvalue().strip()) == [out.getvalue().strip()]


def _deploy_check_ids() -> set[str | None]:
    return {m.id for m in run_checks(include_deployment_checks=True)}


def test_production_without_data_keys_or_with_private_urls_is_flagged(
    settings: Settings,
) -> None:
    settings.DATA_ENCRYPTION_KEYS = []
    settings.DELIVERY_ALLOW_PRIVATE_URLS = True
    assert {"assistant.W031", "assistant.W032"} <= _deploy_check_ids()
    settings.DATA_ENCRYPTION_KEYS = [KEY_A]
    settings.DELIVERY_ALLOW_PRIVATE_URLS = False
    assert not {"assistant.W031", "assistant.W032"} & _deploy_check_ids()
