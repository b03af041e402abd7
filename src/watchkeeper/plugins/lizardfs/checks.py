"""`LizardFS replication`, `LizardFS chunkserver ADDR`, `LizardFS space`, `LizardFS files PATH`.

The same judgements as MooseFS's (see `plugins/moosefs`), over the `lizardfs` and
`lizardfs_files` sections: a LizardFS master's state is read into the MooseFS model, and the
agent's per-path report has the same shape. Rules written for these plugin names take the
MooseFS parameters.
"""

from __future__ import annotations

from dataclasses import replace

from watchkeeper.checkapi import AgentSection
from watchkeeper.plugins.moosefs.chunkservers import moosefs_chunkservers
from watchkeeper.plugins.moosefs.files import moosefs_files, parse_moosefs_files
from watchkeeper.plugins.moosefs.replication import moosefs_replication
from watchkeeper.plugins.moosefs.space import moosefs_space

lizardfs_replication = replace(
    moosefs_replication, name="lizardfs_replication", section="lizardfs", title="LizardFS replication")
lizardfs_chunkservers = replace(
    moosefs_chunkservers, name="lizardfs_chunkserver", section="lizardfs", title="LizardFS chunkserver %s")
lizardfs_space = replace(moosefs_space, name="lizardfs_space", section="lizardfs", title="LizardFS space")
lizardfs_files = replace(moosefs_files, name="lizardfs_files", section="lizardfs_files", title="LizardFS files %s")

lizardfs_files_section = AgentSection("lizardfs_files", parse_moosefs_files)
