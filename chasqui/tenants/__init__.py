"""Tenants: the tenant file (``schema``), import/export (``io``) and snapshots (``snapshot``)."""

from chasqui.tenants.io import (
    dump_tenant_yaml,
    export_tenant,
    import_tenant,
    import_tenant_file,
    load_tenant_file,
)
from chasqui.tenants.schema import TenantFile, TenantFileError
from chasqui.tenants.snapshot import UnknownTenantError, get_tenant, load_snapshot

__all__ = [
    "TenantFile",
    "TenantFileError",
    "UnknownTenantError",
    "dump_tenant_yaml",
    "export_tenant",
    "get_tenant",
    "import_tenant",
    "import_tenant_file",
    "load_snapshot",
    "load_tenant_file",
]
