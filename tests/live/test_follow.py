"""Reading recordings while the hub writes them (courtroom/live/follow.py):
pictures and sound arrive as the files grow, a stream that starts in the
middle of a file decodes from the keyframe before it, and a participant
who sends nothing more is shown as nothing rather than waited for."""

from __future__ import annotations

import fractions
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from courtroom.live.follow import FollowedPictures, FollowedSound
from courtroom.media.recording import TrackRecorder, recordings
from tests.media.test_recording import opus_packets

FPS = 30


#: The encoder, and its options for one keyframe only, by codec.
ENCODERS = {"video/VP8": ("libvpx", {"g": "10000", "keyint_min": "10000"}),
            "video/H264": ("libx264", {"tune": "zerolatency", "preset": "ultrafast", "keyint": "10000",
                                       "x264-params": "scenecut=0"})}


def grey_frames(count: int, codec: str = "video/VP8") -> list[tuple[bytes, int, bool]]:
    """Frames whose brightness tells their number (one keyframe, first)."""
    name, options = ENCODERS[codec]
    enc = av.CodecContext.create(name, "w")
    enc.width, enc.height, enc.pix_fmt = 160, 120, "yuv420p"
    enc.time_base = fractions.Fraction(1, FPS)
    enc.options = options
    out = []
    for i in range(count):
        img = np.full((120, 160, 3), 20 + (i * 2) % 200, np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        out += [(bytes(p), i * 3000, p.is_keyframe) for p in enc.encode(frame)]
    return out


def brightness(frame: av.VideoFrame) -> float:
    return float(frame.to_ndarray(format="rgb24").mean())


def files(folder: Path, pid: str) -> list:
    return [r for r in recordings(folder) if r.participant_id == pid]


@pytest.mark.parametrize("codec", list(ENCODERS))
def test_pictures_arrive_while_the_file_grows_from_the_keyframe_before_the_start(tmp_path: Path, codec: str) -> None:
    frames = grey_frames(5 * FPS, codec)
    assert sum(key for _, _, key in frames) == 1
    rec = TrackRecorder(tmp_path, "p-a", "video", lambda: 0.0)
    rec.set_active(True)
    written = threading.Event()

    def write() -> None:
        for k, (data, ts, key) in enumerate(frames):
            rec.write(data, ts, key, codec)
            if k == 4 * FPS:  # (its first 3 s are on disk: clusters of a second)
                written.set()
            time.sleep(1 / FPS / 4)  # four times real time
    writer = threading.Thread(target=write)
    writer.start()
    written.wait(10)
    pictures = FollowedPictures(2.0, lambda: files(tmp_path, "p-a"))
    try:
        shown = pictures.at(2.5)  # decoded from the keyframe at 0, while the file is still being written
        assert shown is not None and abs(brightness(shown) - (20 + (75 * 2) % 200)) < 4
        writer.join()
        rec.close()  # the last second's cluster reaches the file
        time.sleep(0.3)  # (the live stream asks for a time long after it is written)
        last = pictures.at(4.9)
        assert last is not None and abs(brightness(last) - (20 + (147 * 2) % 200)) < 4
        # The participant sent nothing more: nothing shown, and no waiting for it.
        begun = time.monotonic()
        assert pictures.at(7.0) is None and time.monotonic() - begun < 1.0
    finally:
        pictures.close()
        rec.close()


def test_sound_arrives_page_by_page_and_a_later_file_follows(tmp_path: Path) -> None:
    clock = iter([0.0, 3.0])
    rec = TrackRecorder(tmp_path, "p-a", "audio", lambda: next(clock))
    rec.set_active(True)
    packets = opus_packets(2.0, 440)
    for k, packet in enumerate(packets[:60]):  # 1.2 s written, the file open
        rec.write(packet, k * 960, False)
    sound = FollowedSound(0.5, lambda: files(tmp_path, "p-a"))
    first = sound.take(round(0.5 * 48_000), 24_000)
    assert np.abs(first).max() > 3000  # the tone, from the open file
    for k, packet in enumerate(packets[60:], 60):
        rec.write(packet, k * 960, False)
    rec.set_active(False)  # a pause; heard again at 3 s in a new file
    rec.set_active(True)
    for k, packet in enumerate(packets):
        rec.write(packet, k * 960, False)
    rec.close()
    gap = sound.take(round(2.2 * 48_000), 24_000)
    assert np.abs(gap).max() < 200  # nobody between the files
    later = sound.take(round(3.2 * 48_000), 24_000)
    assert np.abs(later).max() > 3000
