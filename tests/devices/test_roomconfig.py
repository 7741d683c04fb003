"""room.toml: seats, cameras and readers, and which participant sits where
at each hearing."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.roomconfig import CameraConfig, ConfigError, Seat, load, match_seats, parse


def people(*rows: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"participant_id": f"p-{i}", "role": role, "name": name, "site": site}
            for i, (role, name, site) in enumerate(rows)]


def test_seats_take_the_courtrooms_participants_in_order_named_ones_first() -> None:
    seats = (Seat(1, "judge"), Seat(3, "agent"), Seat(4, "agent", name="被告代理人"), Seat(5, "witness"))
    hearing = people(("judge", "王法官", "court"), ("agent", "被告代理人", "court"), ("agent", "原告代理人", "court"),
                     ("witness", "远程证人", "remote"))
    matched = {seat.channel: p["name"] for seat, p in match_seats(seats, hearing).items()}
    # The named seat takes its person; the other agent seat the remaining agent; the witness is not here.
    assert matched == {1: "王法官", 3: "原告代理人", 4: "被告代理人"}


def test_a_full_config(tmp_path: Path) -> None:
    (tmp_path / "credential").write_text("secret\n")
    path = tmp_path / "room.toml"
    path.write_text('hub = "https://hub.court.example/"\ncredential_file = "credential"\n'
                    '[audio]\ninput = "Scarlett"\noutput = 3\n'
                    '[[seat]]\nchannel = 1\nrole = "judge"\n'
                    '[[seat]]\nchannel = 4\nrole = "defendant"\nfingerprint = "virtual_image"\n'
                    '[[camera]]\ndevice = "/dev/video0"\nseat = 1\n'
                    '[document_camera]\ndevice = "test"\nsize = "1920x1080"\n', encoding="utf-8")
    config = load(path)
    assert config.hub == "https://hub.court.example" and config.credential == "secret"
    assert (config.input, config.output, config.channels) == ("Scarlett", 3, 4)
    assert config.seats[1] == Seat(4, "defendant", None, "virtual_image")
    assert config.cameras == (CameraConfig("camera-1", "/dev/video0", 1), CameraConfig("document", "test", None, "1920x1080"))


@pytest.mark.parametrize("extra, problem", [
    ('[[camera]]\ndevice = ""\n', "device must be"),
    ('[[camera]]\ndevice = "test"\nseat = 9\n', "seat must be the channel"),
    ('[[camera]]\ndevice = "test"\nsize = "big"\n', "size is WIDTHxHEIGHT"),
    ('[document_camera]\nlens = 1\n', "a camera has device"),
    ('[[seat]]\nchannel = 2\nrole = "clerk"\nfingerprint = ""\n', "fingerprint names"),
    ('[audio]\ninput = true\n', "audio.input"),
])
def test_bad_entries_say_where_and_why(extra: str, problem: str) -> None:
    import tomllib
    text = 'hub = "http://x"\ncredential = "c"\n[[seat]]\nchannel = 1\nrole = "judge"\n' + extra
    with pytest.raises(ConfigError, match=problem):
        parse(tomllib.loads(text), Path("."))
