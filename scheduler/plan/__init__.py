"""Planning: calendar moments to concrete posts (times, captions, media, text-rule checks)."""

from scheduler.plan.planner import Plan, plan_posts

__all__ = ["Plan", "plan_posts"]
