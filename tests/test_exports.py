import types

import openlisten


def test_all_is_sorted_and_complete() -> None:
    assert openlisten.__all__ == sorted(openlisten.__all__)
    public = {
        name
        for name, value in vars(openlisten).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(openlisten.__all__)
