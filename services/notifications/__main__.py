"""`python -m services.notifications`"""

from libs.runtime.main import serve

serve("services.notifications.app", "notifications")
