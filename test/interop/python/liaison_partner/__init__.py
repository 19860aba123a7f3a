"""An independent Liaison partner node, written from docs/PROTOCOL.md and proto/ only."""
