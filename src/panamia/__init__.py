"""panamia: a polyglot community platform."""
