"""Software that runs next to courtroom hardware and joins a hearing over the wire protocol."""
