"""Final notes delivered where the team works: signed webhooks, Slack, email.

- `targets.py`: where notes go (a host's own targets, or the site's), checked and sealed;
- `scheduling.py`: when: once per target when final notes are first stored, and on request;
- `sending.py`: one delivery sent by one job, claimed so a job run twice sends once;
- `attempts.py`: retries with backoff and the attempt log;
- `signing.py`, `slack.py`, `mail.py`, `content.py`: what is sent and how it is signed;
- `status.py`: what the meeting page shows of them.
"""
