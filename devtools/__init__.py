"""Development and test tools: the local stack (`make run`), the FCM emulator and the payment
simulator. Never part of the wheel or the production image (pyproject: wheel packages); the
import contracts forbid production code (app, models, workers, notifications) to import it."""
