"""The component_static target: the generator of its 1000 build-time cases, their run-time support
and its decoder (the generated package is `itfuzz.static.cases`)."""
