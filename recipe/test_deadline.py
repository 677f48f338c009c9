"""Tests of train.py's deadline: an HH:MM that has passed today is tomorrow's (a session that starts
before midnight and ends after it), an HH:MM to come is today's, an ISO time is taken as given.

usage: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 -m unittest recipe/test_deadline.py -v
"""
import datetime as dt
import os
import sys
import unittest
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402


def hh_mm(t):
    return f"{t.hour:02d}:{t.minute:02d}"


class DeadlineTest(unittest.TestCase):
    def test_a_time_already_past_today_is_tomorrows(self):
        now = dt.datetime.now(dt.timezone.utc)
        end = train.deadline(SimpleNamespace(minutes=None, until=hh_mm(now - dt.timedelta(minutes=2))))
        self.assertGreater(end - now, dt.timedelta(hours=23, minutes=56))
        self.assertLess(end - now, dt.timedelta(hours=24))

    def test_a_time_to_come_is_todays(self):
        now = dt.datetime.now(dt.timezone.utc)
        end = train.deadline(SimpleNamespace(minutes=None, until=hh_mm(now + dt.timedelta(minutes=3))))
        self.assertGreater(end - now, dt.timedelta(minutes=1))
        self.assertLess(end - now, dt.timedelta(minutes=4))

    def test_an_iso_time_is_taken_as_given(self):
        end = train.deadline(SimpleNamespace(minutes=None, until="2026-12-01T10:00:00Z"))
        self.assertEqual(end, dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone.utc))


if __name__ == "__main__":
    unittest.main()
