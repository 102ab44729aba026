"""`python -m services.console`"""

from libs.runtime.main import serve
from services.console.app import Settings, create_app

serve("console", Settings(), create_app)
