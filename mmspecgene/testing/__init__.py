# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-free test helpers: checkpoint layout fixtures, backbone input/output capture, config edits, script import."""
