"""How long each kind of data is kept: the one table (docs/contract.md "Retention" repeats it
for readers; app/privacy's export lists it to the citizen; app/retention.py enforces what a
TTL index cannot).

Days per kind. A TTL index (Beanie `expireAfterSeconds`) enforces a lifetime where the
document carries the moment it is measured from; the retention cron does the rest.
"""

from __future__ import annotations

DAY = 86_400

# Webhook delivery logs (models/webhook.py, TTL on created_at).
WEBHOOK_LOG_DAYS = 90
# SMS log (models/sms.py, TTL on created_at).
SMS_LOG_DAYS = 90
