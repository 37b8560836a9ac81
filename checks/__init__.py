"""Pure evaluation: targets (data) × the latest facts of a site → results. No I/O here
beyond reading the targets and declarations files through yte_compliance.core.yamlconf."""
