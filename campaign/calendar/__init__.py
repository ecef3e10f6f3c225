"""The campaign calendar: models, loading with line numbers, and whole-file checks."""

from campaign.calendar.loader import LoadedCalendar, load_calendar
from campaign.calendar.models import Calendar, Channel, Moment, Platform, Testimonial

__all__ = ["Calendar", "Channel", "LoadedCalendar", "Moment", "Platform", "Testimonial", "load_calendar"]
