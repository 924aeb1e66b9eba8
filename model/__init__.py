"""blocsim: an agent-based model of states drifting between the West and the SCO.

Layers, imports flowing one way: ``errors`` and ``world`` (data) and ``scenario`` (schema) at the
bottom; ``levers`` and ``dynamics`` (pure array functions); ``plan`` and ``snapshot`` (the
model's plain inputs and state); ``simulation`` (the Mesa model, which reads no files and knows no
scenario); ``build`` (scenario -> model); then ``outputs``, ``plots``, ``batch``, ``compare`` and
``cli`` on top.
"""

__version__ = "0.1.0"
