"""negmine.evaluate stage."""

from negmine.callable_package import make_callable

make_callable(__name__, "negmine.evaluate.api:evaluate")  # negmine.evaluate(config) is negmine.evaluate.api.evaluate
