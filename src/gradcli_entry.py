"""The ``gradcli`` console script's first module: Ctrl-C from the very start.

A shell loop of gradcli calls spends much of its time starting Python and
importing gradcli, so that is where Ctrl-C usually lands. The console script
imports this module, which imports nothing (outside the standard library
Python has already loaded) before it can catch ``KeyboardInterrupt``; the
``gradcli`` package and everything it imports load inside ``main``, so an
interrupt at any point of them exits 130 with no traceback, as the contract
asks. (It lives outside the ``gradcli`` package because importing
``gradcli.anything`` runs the package's ``__init__``, which imports the
engine: about 35 ms without the guard.)
"""



def main() -> None:
    try:
        from gradcli.cli_fast import main as run

        run()
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
