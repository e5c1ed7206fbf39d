"""Generate a repository of N accounts (mixed modes, both locales, overrides in about a third).

python bench/generate.py 1000 /tmp/bench-1000
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HEAD = """\
version: 1
account:
  id: {id}
  name: Account {n}
  admins: ["@team-{n}"]
  locales: [fr, en]
"""
SENDERS = [
    "sender:\n  mode: ametrika\n  from_name: Account {n} Reports\n",
    (
        "sender:\n  mode: analytics-report\n  from_name: Account {n} Reports\n"
        "  reply_to: support@a{n}.example.com\n"
    ),
    (
        "sender:\n  mode: smtp\n  from_name: Account {n}\n  smtp:\n    host: smtp.a{n}.example.com\n"
        "    security: starttls\n    port: 587\n    username: reports@a{n}.example.com\n"
        "    password: {{env: A{n}_SMTP_PASSWORD}}\n    from_address: reports@a{n}.example.com\n"
    ),
    (
        "sender:\n  mode: hosted\n  from_name: Account {n}\n  hosted:\n    domain: mail.a{n}.example.com\n"
        '    from_address: news@mail.a{n}.example.com\n    verification: "tok-{n:08d}"\n'
        "    click_tracking: true\n    dns: {{provider: cloudflare, zone: example.com}}\n"
    ),
]
OVERRIDES = """\
templates:
  footer:
    fr: {{text: "Account {n} — 1 rue de la Paix, Paris"}}
  insights:
    fr:
      subject: "Les insights de Account {n} pour {{{{ period.label }}}}"
      html: {{file: overrides/insights.fr.html.j2}}
    en:
      text: |
        Insights for {{{{ period.label }}}}
        {{% for item in insights %}}- {{{{ item.title }}}}: {{{{ item.change_pct }}}} %
        {{% endfor %}}
"""
HTML = """<h1>Insights {{ period.label }}</h1>
<ul>{% for item in insights %}<li>{{ item.title }} ({{ item.metric }})</li>{% endfor %}</ul>
<p><a href="{{ dashboard_url }}">Tableau de bord</a></p>
"""


def generate(n: int, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    for folder in ("templates", "schemas"):
        shutil.copytree(ROOT / folder, dest / folder)
    (dest / "accounts").mkdir(parents=True)
    (dest / "overrides").mkdir()
    (dest / "overrides" / "insights.fr.html.j2").write_text(HTML, encoding="utf-8")
    for i in range(n):
        text = HEAD.format(id=f"acct-{i:05d}", n=i) + SENDERS[i % 4].format(n=i)
        if i % 3 == 0:
            text += OVERRIDES.format(n=i)
        (dest / "accounts" / f"acct-{i:05d}.yaml").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    generate(int(sys.argv[1]), Path(sys.argv[2]))
