"""What templates get besides Jinja2's built-ins, registered on the sandboxed environments:
``button()`` in HTML templates."""

from __future__ import annotations

from jinja2.sandbox import SandboxedEnvironment

from ametrika_gitops.render.components import button


def register_filters(html_env: SandboxedEnvironment, text_env: SandboxedEnvironment) -> None:
    html_env.globals["button"] = button
