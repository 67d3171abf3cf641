import subprocess
import sys
import types

import openlisten


def test_all_is_sorted_and_complete() -> None:
    assert openlisten.__all__ == sorted(openlisten.__all__)
    public = {
        name
        for name, value in vars(openlisten).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public | {"create_app"} == set(openlisten.__all__)  # create_app is imported on first use
    assert all(getattr(openlisten, name) for name in openlisten.__all__)


def test_importing_the_package_loads_no_web_framework() -> None:
    code = "import sys, openlisten; print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette'}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_a_plain_server_imports_neither_ray_nor_psycopg() -> None:
    code = (
        "import sys; from openlisten.api.app import create_app; from openlisten.config import Settings;"
        " import openlisten.cli; create_app(Settings(no_auth=True));"
        " print(sorted({m.split('.')[0] for m in sys.modules} & {'ray', 'psycopg', 'pipecat'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
