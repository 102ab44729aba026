"""`python -m services.intake`"""

from libs.runtime.main import serve
from services.intake.app import NAME, Settings, create_app

serve(NAME, Settings(), create_app)
