from negmine.export.base import ExportShape, scan_shape
from negmine.export.native import read_native


def test_scan_shape(native_file):
    assert scan_shape(read_native(native_file)) == ExportShape(rows=3, max_negatives=3)
    assert scan_shape([]) == ExportShape(rows=0, max_negatives=0)
