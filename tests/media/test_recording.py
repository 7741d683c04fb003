"""Recordings: Ogg Opus written page by page, readable by ffmpeg, cut back
out by time; a file cut short by a crash still plays up to the cut."""

from __future__ import annotations

import fractions
import io
from pathlib import Path

import av
import numpy as np
import pytest

from courtroom.media.recording import (SILENCE, OggOpusWriter, TrackRecorder, audio_clip, ogg_packets,
                                       ogg_crc, opus_samples, recordings)


def opus_packets(seconds: float, freq: float = 440.0) -> list[bytes]:
    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate, enc.layout, enc.format = 48_000, "stereo", "s16"
    enc.time_base = fractions.Fraction(1, 48_000)
    out = []
    for i in range(int(seconds * 50)):
        t = (np.arange(960) + i * 960) / 48_000
        s = (np.sin(2 * np.pi * freq * t) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.stack([s, s], 1).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = 48_000, i * 960, fractions.Fraction(1, 48_000)
        out += [bytes(p) for p in enc.encode(frame)]
    return out


def decoded_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as c:
        return sum(f.samples for f in c.decode(c.streams.audio[0])) / 48_000


@pytest.mark.parametrize("packet, samples", [(SILENCE, 960), (bytes([0b01001000]), 960),  # SILK 20 ms
                                             (bytes([0b11111001]), 1920),  # CELT 20 ms, two frames
                                             (bytes([0b11101011, 0x03]), 3 * 240), (b"", 0)])
def test_opus_packet_durations_come_from_the_toc_byte(packet: bytes, samples: int) -> None:
    assert opus_samples(packet) == samples


def bitwise_ogg_crc(data: bytes) -> int:
    """The Ogg specification's checksum as it defines it, one bit at a time."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff", b"123456789", bytes(range(256)) * 3])
def test_the_ogg_checksum_is_the_specifications(data: bytes) -> None:
    assert ogg_crc(data) == bitwise_ogg_crc(data)
    assert ogg_crc(b"123456789") == 0x89A1897F  # CRC-32/POSIX's check value without its final xor


def test_ogg_opus_round_trips_and_ffmpeg_plays_it(tmp_path: Path) -> None:
    packets = opus_packets(3)
    path = tmp_path / "a.ogg"
    with open(path, "wb") as f:
        w = OggOpusWriter(f, serial=7, fsync=lambda fd: None)
        for p in packets:
            w.write(p)
        w.flush(last=True)
    data = path.read_bytes()
    assert list(ogg_packets(data))[2:] == packets
    assert decoded_seconds(data) == pytest.approx(3.0, abs=0.05)  # ffmpeg checks every page's CRC
    # A crash mid-page: everything before the cut still reads and plays.
    cut = data[: len(data) * 2 // 3]
    kept = list(ogg_packets(cut))[2:]
    assert 0 < len(kept) < len(packets) and kept == packets[:len(kept)]
    assert decoded_seconds(cut) > 1.0


def test_pages_reach_the_file_every_half_second(tmp_path: Path) -> None:
    path = tmp_path / "a.ogg"
    with open(path, "wb") as f:
        w = OggOpusWriter(f, serial=7, fsync=lambda fd: None)
        for p in opus_packets(2)[:26]:
            w.write(p)
        assert len(list(ogg_packets(path.read_bytes()))) == 2 + 25  # headers + 0.5 s


def test_a_segments_audio_is_cut_from_the_recordings_by_hearing_time(tmp_path: Path) -> None:
    folder = tmp_path / "h-1"
    clock = iter([10.0, 40.0])
    rec = TrackRecorder(folder, "p-a", "audio", lambda: next(clock))
    rec.set_active(True)
    for k, p in enumerate(opus_packets(4)):
        if k == 100:  # a 1 s gap (lost packets): filled with silence
            continue
        rec.write(p, k * 960 + (48_000 if k > 100 else 0), key=True)
    rec.set_active(False)  # muted: the next stretch is another file
    rec.set_active(True)
    for k, p in enumerate(opus_packets(2)):
        rec.write(p, k * 960, key=True)
    rec.close()
    from courtroom.media import recording
    recording._DISK.submit(lambda: None).result()  # closes are done
    files = recordings(folder)
    assert [(r.participant_id, r.kind, r.start) for r in files] == [("p-a", "audio", 10.0), ("p-a", "audio", 40.0)]
    assert decoded_seconds(files[0].path.read_bytes()) == pytest.approx(5.0, abs=0.05)
    clip = audio_clip(folder, "p-a", 11.0, 12.5)
    assert clip is not None and decoded_seconds(clip) == pytest.approx(1.5, abs=0.05)
    both = audio_clip(folder, "p-a", 14.0, 41.0)
    assert both is not None and decoded_seconds(both) == pytest.approx(2.0, abs=0.05)
    assert audio_clip(folder, "p-a", 20.0, 30.0) is None
    assert audio_clip(folder, "p-other", 10.0, 12.0) is None


def vp8_frames(count: int) -> list[tuple[bytes, int, bool]]:
    """``count`` VP8 frames at 30 fps: (data, 90 kHz timestamp, keyframe)."""
    enc = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height, enc.pix_fmt = 160, 120, "yuv420p"
    enc.time_base = fractions.Fraction(1, 30)
    out = []
    for i in range(count):
        img = np.random.default_rng(i).integers(0, 255, (120, 160, 3), np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        out += [(bytes(p), i * 3000, p.is_keyframe) for p in enc.encode(frame)]
    return out


def test_video_reaches_the_file_a_second_at_a_time_while_recording(tmp_path: Path) -> None:
    """A crash loses about a second of video, and the live stream reads the
    file as it grows: every whole second is in the file before it closes."""
    rec = TrackRecorder(tmp_path, "p-a", "video", lambda: 0.0)
    rec.set_active(True)
    for data, ts, key in vp8_frames(75):
        rec.write(data, ts, key)
    assert rec.path is not None
    with av.open(str(rec.path)) as c:
        times = [float(p.pts * p.time_base) for p in c.demux(c.streams.video[0]) if p.pts is not None]
    assert times and max(times) >= 1.9, times  # clusters of the first 2 s of 2.5
    rec.close()


def h264_frames(count: int) -> list[tuple[bytes, int, bool]]:
    """H.264 frames in Annex B, as aiortc's depacketizer hands them over."""
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = 160, 120, "yuv420p"
    enc.time_base = fractions.Fraction(1, 30)
    enc.options = {"tune": "zerolatency", "preset": "ultrafast", "keyint": "30"}
    out = []
    for i in range(count):
        img = np.full((120, 160, 3), 20 + i % 200, np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        out += [(bytes(p), i * 3000, p.is_keyframe) for p in enc.encode(frame)]
    return out


def test_h264_is_recorded_in_mpeg_ts_and_read_back_on_the_hearing_clock(tmp_path: Path) -> None:
    from courtroom.composition.sources import Pictures
    clock = iter([5.0, 9.0])
    rec = TrackRecorder(tmp_path, "p-a", "video", lambda: next(clock))
    rec.set_active(True)
    frames = h264_frames(60)
    assert frames[0][0].startswith(b"\x00\x00\x00\x01")
    for data, ts, key in frames:
        rec.write(data, ts, key, "video/H264")
    assert rec.path is not None and rec.path.suffix == ".ts"
    with av.open(str(rec.path)) as c:  # on disk before the file closes
        assert sum(1 for _ in c.demux(c.streams.video[0])) >= 50
    # Renegotiated to VP8: a new file, in WebM.
    for data, ts, key in vp8_frames(30):
        rec.write(data, ts, key, "video/VP8")
    rec.close()
    found = recordings(tmp_path)
    assert [(r.path.suffix, r.start) for r in found] == [(".ts", 5.0), (".webm", 9.0)]
    pictures = Pictures(found)
    shown = pictures.at(5.0 + 40 / 30)
    assert shown is not None and shown.width == 160
    assert abs(float(shown.to_ndarray(format="rgb24").mean()) - (20 + 40)) < 4
    assert pictures.at(9.5) is not None and pictures.at(9.5).width == 160
