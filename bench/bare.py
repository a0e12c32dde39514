"""gradcli with pyarrow and orjson hidden (a plain install without the
``data`` extra): ``python bench/bare.py grad ... --at p.csv`` runs the
console script as if they were not installed."""
import sys


class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pyarrow", "orjson"):
            raise ImportError(f"{name} is hidden by bench/bare.py")


sys.meta_path.insert(0, _Hide())
from gradcli.cli_fast import main  # noqa: E402

sys.argv[0] = "gradcli"
main()
