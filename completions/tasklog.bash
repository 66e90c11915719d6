# tasklog completion for bash: `tasklog completion install bash`, or source this file.
_tasklog_completion() {
    local IFS=$'\n' response
    response=$(_TASKLOG_COMPLETE=complete_bash _TASKLOG_COMPLETE_LINE="${COMP_LINE:0:COMP_POINT}" _TASKLOG_COMPLETE_BREAKS="$COMP_WORDBREAKS" \
        "$1" 2>/dev/null) || return 0
    COMPREPLY=()
    [[ -n $response ]] && mapfile -t COMPREPLY <<< "$response"
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then
        compopt -o nospace
    fi
    return 0
}
complete -o default -F _tasklog_completion tasklog
