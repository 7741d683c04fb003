"""The public live stream of a hearing (庭审直播): the composed picture and
mixed sound, a fixed delay behind the courtroom, as HLS files any web
server or CDN can serve. Composed in a process of its own from the
recordings as they grow, so the hearing's own media never waits for it."""
