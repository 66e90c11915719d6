# tasklog completion for fish: `tasklog completion install fish`, or copy to ~/.config/fish/completions/.
function __tasklog_complete
    _TASKLOG_COMPLETE=complete_fish _TASKLOG_COMPLETE_LINE=(commandline -cp | string collect) tasklog 2>/dev/null
end
complete --command tasklog --no-files --arguments '(__tasklog_complete)'
