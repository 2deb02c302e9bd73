"""A batch's device states are its planned slices overlaid with its outcome records, in order:
what a run of the batch skips, retries or gives up on rests on it (workers/announcements.py)."""

from __future__ import annotations

from beanie import PydanticObjectId

from models.announcement import BatchDevice, DeviceOutcome
from workers.announcements import _overlay


def _devices(count: int) -> list[BatchDevice]:
    return [
        BatchDevice(device_id=PydanticObjectId(), citizen_id=PydanticObjectId(), token=f"t{n}") for n in range(count)
    ]


def test_records_in_order_give_each_device_its_last_state_and_its_attempts() -> None:
    recorded = {
        # Sent on the first pass.
        100: [DeviceOutcome(i=100, state="sent")],
        # Unavailable twice, then sent: three attempts.
        101: [
            DeviceOutcome(i=101, state="pending", error_code="UNAVAILABLE"),
            DeviceOutcome(i=101, state="pending", error_code="UNAVAILABLE"),
            DeviceOutcome(i=101, state="sent"),
        ],
        # Held for quiet hours: no attempt yet.
        102: [DeviceOutcome(i=102, state="held")],
        # Another slice's device: not this one's business.
        7: [DeviceOutcome(i=7, state="sent")],
    }
    devices = _devices(4)
    _overlay(devices, 100, recorded)
    assert [(d.state, d.attempts) for d in devices] == [("sent", 1), ("sent", 3), ("held", 0), ("pending", 0)]
    assert devices[1].error_code is None


def test_a_device_given_up_on_keeps_the_reason() -> None:
    devices = _devices(1)
    _overlay(devices, 0, {0: [DeviceOutcome(i=0, state="failed", error_code="INTERNAL")]})
    assert (devices[0].state, devices[0].attempts, devices[0].error_code) == ("failed", 1, "INTERNAL")
