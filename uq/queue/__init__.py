"""Pure queue logic: clocks, SLA state, ordering. No IO, no Textual."""
