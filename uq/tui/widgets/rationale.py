"""The rationale editor: a soft-wrapped TextArea that takes templates at the cursor."""

from __future__ import annotations

from textual.widgets import TextArea


class RationaleEditor(TextArea):
    DEFAULT_CSS = """
    RationaleEditor { height: 8; }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(text, soft_wrap=True, show_line_numbers=False, tab_behavior="focus", id=id)

    def on_mount(self) -> None:
        if self.app.is_headless:  # a blinking cursor makes screenshots differ run to run
            self.cursor_blink = False

    def insert_template(self, template: str) -> None:
        """Insert at the cursor, on its own paragraph when the editor already has text."""
        text = template.strip()
        if self.text.strip():
            row, col = self.cursor_location
            line = self.document.get_line(row)
            if line[:col].strip():
                text = "\n" + text
        self.insert(text)
        self.focus()
