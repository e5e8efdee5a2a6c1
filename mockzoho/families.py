"""Every API family the server speaks, in one registration each: adding a family is adding a line here."""

from __future__ import annotations

from .accounts.routes import FAMILY as ACCOUNTS
from .admin.routes import FAMILY as ADMIN
from .admin.ui import FAMILY as ADMIN_UI
from .core.families import Families
from .cosmos.routes import FAMILY as COSMOS
from .state import ZOHO_PRODUCTS
from .zoho.calls import zoho_family
from .zoho import records as _zoho_records  # noqa: F401  # the views of these modules join the Zoho blueprint
from .zoho import routes as _zoho_routes  # noqa: F401
from .zoho import query as _zoho_query  # noqa: F401
from .zoho import settings as _zoho_settings  # noqa: F401

# The first is the default: a path no family owns is answered in Zoho CRM's envelope. The dashboard comes before
# the control API, whose prefix (/__admin) holds its own (/__admin/ui).
FAMILIES = Families((*map(zoho_family, ZOHO_PRODUCTS), ACCOUNTS, COSMOS, ADMIN_UI, ADMIN))
