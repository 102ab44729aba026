"""`python -m services.processing`"""

from libs.runtime.main import serve
from services.processing.app import NAME, Settings, create_app

serve(NAME, Settings(), create_app)
