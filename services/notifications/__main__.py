"""`python -m services.notifications`"""

from libs.runtime.main import serve
from services.notifications.app import NAME, Settings, create_app

serve(NAME, Settings(), create_app)
