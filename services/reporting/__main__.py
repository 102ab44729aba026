"""`python -m services.reporting`"""

from libs.runtime.main import serve
from services.reporting.app import NAME, Settings, create_app

serve(NAME, Settings(), create_app)
