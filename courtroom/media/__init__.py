"""The media hub (aiortc): one peer connection per participant, encoded
media forwarded between them without transcoding, each speaker's audio
decoded once for recognition."""
