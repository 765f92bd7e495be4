<?php
// The walkthrough's page: which pod answered (its address, as Apache saw the connection).
echo "Server IP address\n\n";
echo $_SERVER['SERVER_ADDR'], "\n";
