"""Configuration examples and the defaults the package ships (read at run time through
``yte_compliance.core.assets``). Users copy from this folder; the code never needs it beside it."""
