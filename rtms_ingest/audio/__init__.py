"""Per-participant audio of a stream, made ready for speech recognition. No I/O, no Django."""
