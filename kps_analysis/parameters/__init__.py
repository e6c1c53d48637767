"""Parameters: region defaults plus one file per clinic, validated first, then frozen.

``parameters/defaults.yaml`` holds the region-wide values (care-guarantee limit,
planning horizons, report language, escalation limits, ...);
``parameters/clinics/<clinic-id>.yaml`` holds one clinic: a name and its data files,
and optionally resources, closures, care-agreement volumes, prices, scenarios and a
common waiting list (:func:`capabilities` tells which a clinic has; a clinic without
resources is planned on its demonstrated capacity).  The file stem is the clinic id.
:func:`load_parameters` reads both, deep-merges them (the clinic file wins; a list
replaces the default list as a whole), validates the result against :data:`SCHEMA`
and returns a frozen :class:`Parameters` object.  The same loader serves the
interactive notebook and the batch runner, so both see exactly the same values.

The schema is data: one :class:`Spec` per dotted key.  Validation and the glossary in
``parameters/README.md`` (:func:`glossary_markdown`) both come from it, so the
documentation cannot drift from what the loader accepts.

Apart from reading the YAML files, nothing here has side effects.

One concept per module; every public name is re-exported here:

================  ======================================================================
module            concept
================  ======================================================================
``schema``        the keys, their types, units and bounds (:data:`SCHEMA`, :class:`Spec`)
``errors``        :class:`ParameterError` (names the file and the key)
``yaml_files``    reading one file: bounded size and alias expansion, no duplicate keys
``validation``    checking files against the schema, defaults, rules between keys
``frozen``        the read-only result (:class:`Parameters`, :class:`ParameterSection`)
``loading``       :func:`load_parameters`, :func:`list_clinics`, :func:`validate_all`
``settings``      :func:`region_settings`, :func:`calendar_region`, :func:`freshness_limit_days`
``capabilities``  the optional groups a clinic has (:func:`capabilities`, :func:`needs_sentence`)
``glossary``      ``parameters/README.md`` from the schema (:func:`glossary_markdown`)
================  ======================================================================
"""

from __future__ import annotations

from .capabilities import CAPABILITIES, capabilities, needs_sentence
from .errors import ParameterError
from .frozen import Parameters, ParameterSection, _rebuild_parameters, _rebuild_section  # noqa: F401 - old pickles
from .glossary import glossary_markdown
from .loading import deep_merge, list_clinics, load_parameters, validate_all
from .schema import ABSENT, CLINIC_ID_PATTERN, SCHEMA, Spec
from .settings import REGION_SETTINGS, calendar_region, freshness_limit_days, region_settings
from .validation import parse_date
from .yaml_files import MAX_YAML_BYTES, MAX_YAML_VALUES

__all__ = [
    "ABSENT",
    "CAPABILITIES",
    "CLINIC_ID_PATTERN",
    "MAX_YAML_BYTES",
    "MAX_YAML_VALUES",
    "ParameterError",
    "ParameterSection",
    "Parameters",
    "REGION_SETTINGS",
    "SCHEMA",
    "region_settings",
    "Spec",
    "calendar_region",
    "capabilities",
    "deep_merge",
    "freshness_limit_days",
    "glossary_markdown",
    "list_clinics",
    "load_parameters",
    "needs_sentence",
    "parse_date",
    "validate_all",
]
