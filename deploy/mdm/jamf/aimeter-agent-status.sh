#!/bin/sh
# Jamf Pro extension attribute "aimeter agent" (data type: String).
# Prints one line such as
#   <result>0.1.0; daemon running; enrolled; secret present; spool 12M</result>
# so that a smart group can find machines where the agent is missing, stopped
# or not yet enrolled ("not enrolled" after a day means a wrong secret or URL).
bin=/Library/aimeter/bin/aimeter-agent
state=/Library/aimeter/state

if [ ! -x "$bin" ]; then
	echo "<result>not installed</result>"
	exit 0
fi
version=$("$bin" --version 2>/dev/null | awk '{print $2}')
if /bin/launchctl print system/com.aimeter.agent 2>/dev/null | grep -q 'state = running'; then
	daemon="daemon running"
else
	daemon="daemon stopped"
fi
if [ -s "$state/device.token" ]; then
	enrolled="enrolled"
else
	enrolled="not enrolled"
fi
if [ -s /etc/aimeter/enrollment-secret ]; then
	secret="secret present"
else
	secret="no secret"
fi
spool=$(/usr/bin/du -sh "$state" 2>/dev/null | awk '{print $1}')
echo "<result>${version:-unknown}; $daemon; $enrolled; $secret; state ${spool:-0}</result>"
