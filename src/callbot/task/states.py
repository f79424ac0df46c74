"""The task state machine (Yiwise status set). One table says which action is legal from which state.

User actions come from the API, the dialects and the console; system moves come from the dialer.
"""

from __future__ import annotations

from enum import StrEnum

from callbot.models.enums import TaskStatus as S


class TaskAction(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


# Tasks the dialer is working on (or will be, once a window or a seat opens).
RUNNING = frozenset({S.RUNNABLE, S.IN_PROCESS, S.IN_QUEUE, S.SYSTEM_SUSPENDED})
FINAL = frozenset({S.TERMINATE})

USER_TRANSITIONS: dict[TaskAction, tuple[frozenset[S], S]] = {
    TaskAction.START: (frozenset({S.NOT_STARTED}), S.RUNNABLE),
    TaskAction.PAUSE: (frozenset({S.RUNNABLE, S.IN_PROCESS, S.IN_QUEUE, S.SYSTEM_SUSPENDED}), S.USER_PAUSE),
    TaskAction.RESUME: (frozenset({S.USER_PAUSE}), S.RUNNABLE),
    TaskAction.STOP: (
        frozenset({S.NOT_STARTED, S.RUNNABLE, S.IN_PROCESS, S.IN_QUEUE, S.SYSTEM_SUSPENDED, S.USER_PAUSE}),
        S.TERMINATE,
    ),
}

# Moves the dialer makes by itself: (from, to) pairs.
SYSTEM_TRANSITIONS: frozenset[tuple[S, S]] = frozenset(
    {
        (S.NOT_STARTED, S.RUNNABLE),  # an AUTO task's start time has come
        *((a, b) for a in RUNNING for b in RUNNING if a != b),
        *((a, S.COMPLETED) for a in RUNNING),
        (S.COMPLETED, S.RUNNABLE),  # an import reopened a completed task
    }
)


def user_target(action: TaskAction, current: S) -> S | None:
    """The state `action` leads to from `current`, or None when it is not allowed."""
    allowed, target = USER_TRANSITIONS[action]
    return target if current in allowed else None


def may_edit(current: S) -> bool:
    """Settings other than the seat count change only while the dialer is not working the task."""
    return current not in RUNNING and current not in FINAL
