"""The hearing as one video (庭审录像): every participant's recording laid
out on one picture, their audio mixed, the transcript as subtitles, on the
hearing's clock. ``layout`` and ``timeline`` are pure (where pictures go,
who is shown large when); the composer that decodes and encodes lives
beside them and is the only part that touches FFmpeg."""
