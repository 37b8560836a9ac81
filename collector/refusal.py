"""A refusal: status, reason (counted and logged), Vietnamese and English text."""

from __future__ import annotations


class Refused(Exception):
    def __init__(self, status: int, reason: str, vi: str, en: str, **extra: object):
        super().__init__(en)
        self.status, self.reason, self.vi, self.en, self.extra = status, reason, vi, en, extra

    def answer(self) -> tuple[int, dict, dict]:
        extra = dict(self.extra)
        headers = {}
        if "retry_after" in extra:
            headers["Retry-After"] = str(int(float(str(extra.pop("retry_after")))) + 1)
        return self.status, {"error": f"{self.vi} / {self.en}", "reason": self.reason,
                             **extra}, headers
