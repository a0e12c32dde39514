"""The grammar of gradcli's language, shipped inside the package as gradcli.grammar."""
